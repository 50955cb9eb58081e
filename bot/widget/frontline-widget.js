/* Frontline chat widget (minimal foundation version).
 * Embed: <script src=".../frontline-widget.js" data-server-url="https://rasa.example"></script>
 * after the socket.io client. Talks to Frontline's socket.io channel
 * (bot/channel.py). Everything from the server is rendered as text, never HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var serverUrl = script.getAttribute("data-server-url");
  var title = script.getAttribute("data-title") || "Support";
  var storageKey = "frontline.session";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var root = el("section", { "class": "fl-widget", "aria-label": title });
  var log = el("div", { "class": "fl-log", "role": "log", "aria-live": "polite" });
  var form = el("form", { "class": "fl-form" });
  var input = el("input", { "class": "fl-input", "aria-label": "Your message", "autocomplete": "off" });
  var send = el("button", { "type": "submit" }, "Send");
  root.appendChild(el("header", { "class": "fl-title" }, title));
  root.appendChild(log);
  form.appendChild(input);
  form.appendChild(send);
  root.appendChild(form);
  var style = el("style", {}, [
    ".fl-widget{position:fixed;right:1rem;bottom:1rem;width:22rem;max-width:calc(100vw - 2rem);",
    "background:#fff;border:1px solid #c8d0dc;border-radius:.75rem;box-shadow:0 4px 16px #0003;",
    "font:14px system-ui,sans-serif;display:flex;flex-direction:column}",
    ".fl-title{background:#14325c;color:#fff;padding:.75rem;border-radius:.75rem .75rem 0 0}",
    ".fl-log{height:20rem;overflow-y:auto;padding:.5rem}",
    ".fl-msg{margin:.25rem 0;padding:.5rem .75rem;border-radius:.75rem;max-width:85%;white-space:pre-wrap}",
    ".fl-user{background:#14325c;color:#fff;margin-left:auto}",
    ".fl-bot{background:#eef1f6}",
    ".fl-agent{background:#fff4d6;border:1px solid #e8c25a}",
    ".fl-buttons button{margin:.2rem;border:1px solid #14325c;background:#fff;border-radius:1rem;padding:.25rem .6rem}",
    ".fl-form{display:flex;border-top:1px solid #c8d0dc}",
    ".fl-input{flex:1;border:0;padding:.75rem;font:inherit}"
  ].join(""));
  document.head.appendChild(style);
  document.body.appendChild(root);

  function addMessage(kind, text, author) {
    var wrap = el("div", { "class": "fl-msg fl-" + kind });
    if (author) wrap.appendChild(el("strong", {}, author + ": "));
    wrap.appendChild(document.createTextNode(text));
    log.appendChild(wrap);
    log.scrollTop = log.scrollHeight;
  }

  var socket = io(serverUrl, { transports: ["websocket", "polling"] });
  var sessionId = null;

  function say(text, payload) {
    if (!sessionId) return;
    addMessage("user", text);
    var id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now());
    socket.emit("user_uttered", { session_id: sessionId, message: payload || text, message_id: id });
  }

  socket.on("connect", function () {
    socket.emit("session_request", { session_id: localStorage.getItem(storageKey) });
  });
  socket.on("session_confirm", function (id) {
    sessionId = id;
    localStorage.setItem(storageKey, id);
  });
  socket.on("bot_uttered", function (message) {
    var custom = message.custom || {};
    if (custom.type === "agent_message") {
      addMessage("agent", custom.text || message.text || "", (custom.agent || {}).name);
    } else if (message.text) {
      addMessage("bot", message.text);
    }
    var buttons = message.buttons || message.quick_replies || [];
    if (buttons.length) {
      var row = el("div", { "class": "fl-buttons" });
      buttons.forEach(function (button) {
        var b = el("button", { "type": "button" }, button.title);
        b.addEventListener("click", function () { say(button.title, button.payload); });
        row.appendChild(b);
      });
      log.appendChild(row);
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (text) say(text);
    input.value = "";
  });
})();
