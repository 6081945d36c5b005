// Progressive enhancement only: every form works without this file.
document.addEventListener("change", function (ev) {
  var el = ev.target;
  if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.submit();
  }
});

// Size report frames to their content (the report is a complete document from the renderer).
function kboneFit(frame) {
  try {
    var doc = frame.contentDocument;
    if (doc && doc.documentElement) {
      frame.style.height = (doc.documentElement.scrollHeight + 24) + "px";
    }
  } catch (e) { /* keep the default height */ }
}
document.querySelectorAll("iframe[data-autoheight]").forEach(function (f) {
  f.addEventListener("load", function () { kboneFit(f); });
  kboneFit(f);
});
