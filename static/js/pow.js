/* Proof-of-work against spam (ALTCHA-style, self-hosted). Loaded only when POW_ENABLED. */
(function () {
  "use strict";

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  async function solve(challenge) {
    var encoder = new TextEncoder();
    for (var n = 0; n <= challenge.maxnumber; n++) {
      var digest = await crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n));
      if (hex(digest) === challenge.challenge) { return n; }
    }
    return null;
  }

  async function run(field) {
    var status = field.form && field.form.querySelector("[data-pow-status]");
    var done = status ? status.getAttribute("data-done") : null;
    try {
      var response = await fetch(field.getAttribute("data-pow-challenge-url"), {credentials: "same-origin"});
      var challenge = await response.json();
      var number = await solve(challenge);
      if (number === null) { return; }
      field.value = btoa(JSON.stringify({
        algorithm: challenge.algorithm, challenge: challenge.challenge,
        number: number, salt: challenge.salt, signature: challenge.signature
      }));
      if (status && done) { status.textContent = done; }
    } catch (e) {
      /* The server will explain on submit that the check did not succeed. */
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-pow-challenge-url]").forEach(function (field) {
      if (!field.value) { run(field); }
    });
  });
})();
