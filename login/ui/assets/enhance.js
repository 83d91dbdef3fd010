// orgid pages work without JavaScript; this adds small conveniences only.
// Copy buttons: <button type="button" class="copy" data-copy="ID" hidden>
// copies the text of the element with that id.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    if (!navigator.clipboard) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var el = document.getElementById(btn.getAttribute("data-copy"));
      if (!el) return;
      var text = "value" in el ? el.value : el.textContent;
      navigator.clipboard.writeText(text.trim()).then(function () {
        var label = btn.textContent;
        btn.textContent = "Copied";
        setTimeout(function () { btn.textContent = label; }, 1500);
      });
    });
  });
  // The organization switcher opens the chosen organization at once.
  var sw = document.getElementById("switch-org");
  if (sw && sw.form) {
    var open = sw.form.querySelector("button");
    if (open) open.classList.add("visually-hidden");
    sw.addEventListener("change", function () { if (sw.value) sw.form.submit(); });
  }
});
