// Fixture: an original source of app.min.js (written by make-fixture.py).
function connect(endpoint) {
  return "connected to " + endpoint;
}
