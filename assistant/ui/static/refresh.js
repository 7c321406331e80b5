// A page whose <main> has data-refresh-s replaces that <main> with a fresh copy every so many seconds.
// Without script the page is simply not refreshed; everything else works the same.
(function () {
  var main = document.getElementById("main");
  var every = main && parseInt(main.getAttribute("data-refresh-s"), 10);
  if (!every) return;
  setInterval(function () {
    fetch(location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (fresh) main.innerHTML = fresh.innerHTML;
      })
      .catch(function () {});
  }, every * 1000);
})();
