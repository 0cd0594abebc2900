// Fixture: an original source of app.min.js (written by make-fixture.py).
function parseConfig(text) {
  const parsed = JSON.parse(text);
  if (!parsed.endpoint) {
    throw new Error("config has no endpoint");
  }
  return parsed;
}

function startApp(configText) {
  const config = parseConfig(configText);
  return connect(config.endpoint);
}

function main() {
  return startApp("{}");
}

main();
