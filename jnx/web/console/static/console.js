/* jnx console: the project's own small script (no third-party code). Pages work without it;
   with it, parts marked data-refresh reload themselves and submit buttons cannot be pressed twice.

   <div data-refresh="5" data-src="/x?partial=1">…</div>  every 5 s, GET data-src (header
   X-Partial: 1) and put the answer in place of the element; an answer without data-refresh
   stops the refreshing (a finished job). */
(function () {
  "use strict";

  function refresh(el) {
    var seconds = parseFloat(el.getAttribute("data-refresh"));
    var src = el.getAttribute("data-src");
    if (!src || !(seconds > 0)) { return; }
    window.setTimeout(function () {
      if (!document.body.contains(el)) { return; }
      fetch(src, { headers: { "X-Partial": "1" }, credentials: "same-origin" })
        .then(function (answer) {
          if (answer.status === 401 || answer.redirected) { window.location.reload(); return null; }
          if (!answer.ok) { throw new Error("HTTP " + answer.status); }
          return answer.text();
        })
        .then(function (html) {
          if (html === null) { return; }
          var holder = document.createElement("div");
          holder.innerHTML = html.trim();
          var fresh = holder.firstElementChild;
          if (!fresh) { return; }
          el.replaceWith(fresh);
          wire(fresh);
        })
        .catch(function () {
          el.classList.add("stale");
          el.setAttribute("title", el.getAttribute("data-stale-text") || "");
          refresh(el);
        });
    }, seconds * 1000);
  }

  function wire(root) {
    if (root.hasAttribute && root.hasAttribute("data-refresh")) { refresh(root); }
    root.querySelectorAll("[data-refresh]").forEach(refresh);
    root.querySelectorAll("form[method=post], form[method=POST]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) {
          window.setTimeout(function () { b.disabled = true; }, 0);
        });
      });
    });
    root.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
})();
