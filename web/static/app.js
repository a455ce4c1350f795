// smartlic portal: small improvements over pages that work without it.
// No inline scripts (the Content-Security-Policy forbids them); this file
// is loaded with defer on every page.
(function () {
  "use strict";

  // <time datetime="…Z">2026-01-05 09:00 UTC</time> → the reader's time zone.
  var fmt;
  try {
    fmt = new Intl.DateTimeFormat(undefined, {
      year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short"
    });
  } catch (e) { fmt = null; }
  if (fmt) {
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime())) { return; }
      el.title = el.textContent; // the UTC original on hover
      el.textContent = fmt.format(d);
    });
  }

  // <button data-copy="ID"> copies the value of the element with that id.
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var src = document.getElementById(btn.getAttribute("data-copy"));
      var status = document.querySelector("[data-copy-status]");
      if (!src) { return; }
      var done = function (msg) { if (status) { status.textContent = msg; } };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(src.value).then(
          function () { done("Copied to the clipboard."); },
          function () { src.select(); done("Press Ctrl+C (⌘C) to copy."); });
      } else {
        src.select();
        done(document.execCommand && document.execCommand("copy") ? "Copied to the clipboard." : "Press Ctrl+C (⌘C) to copy.");
      }
    });
  });
})();
