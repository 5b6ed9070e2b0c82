/*
 * Passkey ceremonies for buttons marked data-passkey="signin" or data-passkey="register".
 * The server makes the options and verifies the result; this file only moves bytes between the
 * server and navigator.credentials. No inline script: the page's CSP forbids it.
 */
(function () {
  "use strict";

  function b64urlToBuffer(value) {
    const pad = "=".repeat((4 - (value.length % 4)) % 4);
    const binary = atob((value + pad).replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function bufferToB64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    json.challenge = b64urlToBuffer(json.challenge);
    json.user.id = b64urlToBuffer(json.user.id);
    (json.excludeCredentials || []).forEach((c) => { c.id = b64urlToBuffer(c.id); });
    return json;
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    json.challenge = b64urlToBuffer(json.challenge);
    (json.allowCredentials || []).forEach((c) => { c.id = b64urlToBuffer(c.id); });
    return json;
  }

  function credentialToJSON(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    const r = credential.response;
    const out = {
      id: credential.id,
      rawId: bufferToB64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || null,
      response: { clientDataJSON: bufferToB64url(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      out.response.attestationObject = bufferToB64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = bufferToB64url(r.authenticatorData);
      out.response.signature = bufferToB64url(r.signature);
      out.response.userHandle = r.userHandle ? bufferToB64url(r.userHandle) : null;
    }
    return out;
  }

  /* The page's CSRF token (the head's meta tag); a page that carries none (the kept sign-in
   * page, the same for every visitor) names where to fetch one in data-token-url. */
  async function csrfToken(button) {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) return meta.content;
    if (!button.dataset.tokenUrl) return "";
    const response = await fetch(button.dataset.tokenUrl, {
      credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(response.statusText);
    return (await response.json()).token;
  }

  async function post(url, body, token) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, Accept: "application/json" },
      body: body === undefined ? "{}" : JSON.stringify(body),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  function showError(button, message, cancelled) {
    const box = button.closest("main").querySelector("[data-passkey-error]");
    if (box) {
      box.textContent = cancelled ? (box.dataset.cancelled || message) : message;
      box.hidden = false;
      box.focus && box.focus();
    }
  }

  async function run(button) {
    const kind = button.dataset.passkey;
    button.disabled = true;
    try {
      const token = await csrfToken(button);
      const options = await post(button.dataset.optionsUrl, undefined, token);
      let payload;
      if (kind === "register") {
        const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
        const nameInput = document.getElementById(button.dataset.nameInput || "");
        payload = { credential: credentialToJSON(credential), name: nameInput ? nameInput.value : "" };
      } else {
        const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
        payload = credentialToJSON(credential);
      }
      const result = await post(button.dataset.verifyUrl, payload, token);
      window.location.assign(result.redirect || "/");
    } catch (error) {
      const cancelled = error && (error.name === "NotAllowedError" || error.name === "AbortError");
      showError(button, error.message, cancelled);
      button.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const supported = window.PublicKeyCredential && navigator.credentials;
    document.querySelectorAll("[data-passkey]").forEach(function (button) {
      if (!supported) {
        button.disabled = true;
        const note = document.querySelector("[data-passkey-unsupported]");
        if (note) note.hidden = false;
        return;
      }
      button.addEventListener("click", function () { run(button); });
    });
  });
})();
