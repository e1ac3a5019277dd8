// The counter screen's QR page: show the time left, and go back to the button once the citizen has
// answered or the time is up (the page itself then redirects, with the thank-you note). Without this
// script the page shows the same time left and a link to check.
(function () {
  "use strict";
  var box = document.getElementById("qr-status");
  if (!box || !window.fetch) return;
  var left = parseInt(box.dataset.left, 10) || 0;
  var poll = (parseInt(box.dataset.poll, 10) || 3) * 1000;
  var clock = document.getElementById("time-left");
  var done = false;

  function leave() {
    if (done) return;
    done = true;
    window.location.replace(box.dataset.here);
  }

  function tick() {
    left = Math.max(0, left - 1);
    if (clock) clock.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
  }

  function check() {
    fetch(box.dataset.status, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      // Anything but the status itself (signed out: the login page; the code gone: 404): let the page say.
      .then(function (reply) { return reply.ok && !reply.redirected ? reply.json() : { state: "gone" }; })
      .then(function (body) {
        if (body.state !== "waiting") leave();
        else { if (typeof body.seconds_left === "number") left = body.seconds_left; setTimeout(check, poll); }
      })
      .catch(function () { setTimeout(check, poll); });  // a network hiccup: try again
  }

  setInterval(tick, 1000);
  setTimeout(check, poll);
})();
