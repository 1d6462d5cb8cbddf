// Broken: cannot even start (a missing setting).
if (!process.env.PLANGREP_CLIENT_CONFIG) {
  throw new Error("PLANGREP_CLIENT_CONFIG is not set");
}
