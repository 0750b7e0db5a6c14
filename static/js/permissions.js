// Permissions list: a "select all" box for the renewable rows on this page. The page works without it.
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) {
    return;
  }
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[name="ids"][form="renew-selection"]'));
  if (!boxes.length) {
    return;
  }
  all.hidden = false;
  function sync() {
    var checked = boxes.filter(function (box) { return box.checked; }).length;
    all.checked = checked === boxes.length;
    all.indeterminate = checked > 0 && checked < boxes.length;
  }
  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
    sync();
  });
  boxes.forEach(function (box) { box.addEventListener("change", sync); });
  sync();
})();
