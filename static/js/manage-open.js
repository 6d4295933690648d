/* Open a manage link: the token is in the URL fragment (/beheren#<token>), which the browser
 * never sends to the server, so it is in no request line and no access log. Read it, drop it
 * from the address bar and the history, and post it with the page's form (CSRF token
 * included). Also when a link is opened in a tab that already shows /beheren (only the
 * fragment changes, the page does not load again). Without JavaScript the contact pastes the
 * code into the same form. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-manage-open]");
  if (!form) { return; }

  function openFromHash() {
    var code = (window.location.hash || "").replace(/^#/, "");
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(code)) { return; }
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    var input = form.querySelector("[name=code]");
    if (!input) { return; }
    input.value = code;
    var status = document.querySelector("[data-manage-opening]");
    if (status) { status.hidden = false; }
    form.submit();
  }

  window.addEventListener("hashchange", openFromHash);
  openFromHash();
}());
