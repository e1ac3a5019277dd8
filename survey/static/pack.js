// A report pack's status page: follow the job's progress and show the download once it is ready (the
// page itself then says so). Without this script the page offers a link to look again.
(function () {
  "use strict";
  var box = document.getElementById("pack-status");
  if (!box || !window.fetch) return;
  var poll = (parseInt(box.dataset.poll, 10) || 3) * 1000;
  var bar = document.getElementById("pack-progress");
  var shown = document.getElementById("pack-percent");

  function check() {
    fetch(box.dataset.state, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (reply) { return reply.ok && !reply.redirected ? reply.json() : { state: "gone" }; })
      .then(function (body) {
        if (body.state === "queued" || body.state === "running") {
          if (bar && typeof body.progress === "number") bar.value = body.progress;
          if (shown && body.label) shown.textContent = body.label;
          setTimeout(check, poll);
        } else {
          window.location.replace(box.dataset.here);  // done, failed or signed out: the page says which
        }
      })
      .catch(function () { setTimeout(check, poll); });  // a network hiccup: try again
  }

  setTimeout(check, poll);
})();
