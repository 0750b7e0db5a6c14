/* Request new permissions: small conveniences on top of plain forms that work without JavaScript. */
(function () {
  "use strict";
  // The "Show users not linked" switch submits itself; its Update button is for browsers without JavaScript.
  document.querySelectorAll("form[data-wizard-autosubmit]").forEach(function (form) {
    form.querySelectorAll("[data-wizard-nojs]").forEach(function (button) {
      button.classList.add("d-none");
    });
    form.addEventListener("change", function () {
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  });
  // Keep a second click on "Add authorization" or "Confirm" from sending the form twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.method.toLowerCase() !== "post") {
      return;
    }
    if (form.dataset.submitted) {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
  });
})();
