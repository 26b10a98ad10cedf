// islet run's live reload: a page reloads when it or anything it uses
// (a script, an image it names) changes, swaps its style sheets when
// only CSS changed, and shows a render error over itself until it is
// fixed.
(function () {
  var overlayID = "islet-render-error";
  function here() {
    var p = decodeURIComponent(location.pathname).replace(/^\//, "");
    if (p === "" || p.endsWith("/")) return [p + "index.html"];
    return [p, p + ".html", p + "/index.html"];
  }
  function showError(msg) {
    var d = document.getElementById(overlayID);
    if (!d) {
      d = document.createElement("pre");
      d.id = overlayID;
      d.style.cssText = "position:fixed;inset:0;margin:0;z-index:2147483647;background:rgba(40,0,0,.94);" +
        "color:#fff;font:14px/1.5 ui-monospace,monospace;padding:2em;white-space:pre-wrap;overflow:auto";
      document.documentElement.appendChild(d);
    }
    d.textContent = "islet: the site did not render; serving the last good one.\n\n" + msg;
  }
  function swapCSS(path) {
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) {
      var u = new URL(links[i].href);
      if (u.origin === location.origin && decodeURIComponent(u.pathname).replace(/^\//, "") === path) {
        u.searchParams.set("islet-reload", Date.now());
        links[i].href = u.href;
      }
    }
  }
  function uses(path) {
    var els = document.querySelectorAll("[src],link[href]");
    for (var i = 0; i < els.length; i++) {
      var u = new URL(els[i].src || els[i].href, location.href);
      if (u.origin === location.origin && decodeURIComponent(u.pathname).replace(/^\//, "") === path) return true;
    }
    return false;
  }
  // A page whose own HTML changed takes its new body in place when its
  // head is the same and its body runs no script: no reload, no flash,
  // the scroll position kept. Otherwise it reloads.
  function update() {
    fetch(location.href, { cache: "no-store" }).then(function (r) { return r.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var scripts = doc.body.querySelectorAll("script");
      for (var i = 0; i < scripts.length; i++) {
        if (scripts[i].getAttribute("src") !== "/_islet/livereload.js") { location.reload(); return; }
      }
      if (doc.head.innerHTML !== document.head.innerHTML) { location.reload(); return; }
      document.body.replaceWith(document.adoptNode(doc.body));
    }).catch(function () { location.reload(); });
  }
  var es = new EventSource("/_islet/events");
  es.addEventListener("failed", function (e) { showError(JSON.parse(e.data)); });
  es.addEventListener("reload", function (e) {
    var changed = JSON.parse(e.data), mine = here(), css = [], page = false, reload = !!document.getElementById(overlayID);
    for (var i = 0; i < changed.length; i++) {
      var p = changed[i];
      if (/\.css$/.test(p)) css.push(p);
      else if (mine.indexOf(p) >= 0) page = true;
      else if (uses(p)) reload = true;
    }
    if (reload) { location.reload(); return; }
    css.forEach(swapCSS);
    if (page) update();
  });
})();
