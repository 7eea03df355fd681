// "Total : N" refreshed as boxes are ticked; the server computes it (same rules as RÉSERVER).
(function () {
  var form = document.getElementById("periode");
  var out = document.getElementById("total");
  if (!form || !out || !window.fetch) { return; }
  var pending = null;
  function refresh() {
    var data = new FormData(form);
    data.delete("csrf");
    data.delete("action");
    var query = new URLSearchParams(data).toString();
    fetch("/reservations/periode/total?" + query, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (body) { out.textContent = body.text || ("Total : — (" + body.error + ")"); })
      .catch(function () { out.textContent = "Total : —"; });
  }
  form.addEventListener("change", function () {
    if (pending) { clearTimeout(pending); }
    pending = setTimeout(refresh, 150);
  });
})();
