/* Emporio chat widget: embed with
 *   <script src="https://shop.example/chat/widget.js" data-token="<chat session token>" data-lang="el" async></script>
 * The token comes from your storefront server (POST /v1/chat/sessions with your storefront key);
 * never put an API key in a page. No CDN, no dependencies; Greek and English.
 * Before a message is sent the widget shows help-centre answers that match what is being typed
 * (when the knowledge base is installed); when no agent is online it offers email instead. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var token = script.getAttribute("data-token") || "";
  var lang = (script.getAttribute("data-lang") || document.documentElement.lang || "el").slice(0, 2);
  var supportEmail = script.getAttribute("data-email") || "";
  var base = new URL(script.src, window.location.href);
  var TEXT = {
    el: { title: "Συνομιλία", placeholder: "Γράψτε το μήνυμά σας…", send: "Αποστολή", offline: "Κανείς συνεργάτης δεν είναι διαθέσιμος τώρα. Γράψτε μας και θα σας απαντήσουμε με email.", email: "Στείλτε email", suggested: "Μήπως σας βοηθά;", you: "Εσείς", agent: "Εξυπηρέτηση", error: "Το μήνυμα δεν στάλθηκε· δοκιμάστε ξανά.", reconnect: "Επανασύνδεση…" },
    en: { title: "Chat", placeholder: "Type your message…", send: "Send", offline: "No agent is available right now. Write to us and we will answer by email.", email: "Send an email", suggested: "Does this help?", you: "You", agent: "Support", error: "The message was not sent; please try again.", reconnect: "Reconnecting…" }
  };
  var t = TEXT[lang] || TEXT.el;
  var lastId = "";
  var socket = null;
  var pending = {};
  var seen = {};

  var root = document.createElement("div");
  root.setAttribute("role", "complementary");
  root.setAttribute("aria-label", t.title);
  root.style.cssText = "position:fixed;bottom:16px;right:16px;width:320px;max-height:480px;display:flex;flex-direction:column;font:14px system-ui,sans-serif;background:#fff;border:1px solid #ccd;border-radius:8px;box-shadow:0 4px 16px rgba(0,0,0,.15);z-index:2147483000";
  root.innerHTML = '<div style="padding:8px 12px;background:#234;color:#fff;border-radius:8px 8px 0 0"></div>' +
    '<div data-log aria-live="polite" style="flex:1;overflow:auto;padding:8px"></div>' +
    '<div data-note style="padding:4px 12px;color:#644;display:none"></div>' +
    '<ul data-suggest style="margin:0;padding:4px 24px;display:none"></ul>' +
    '<form style="display:flex;gap:4px;padding:8px"><textarea rows="2" style="flex:1" maxlength="10000"></textarea><button type="submit"></button></form>';
  root.firstChild.textContent = t.title;
  var log = root.querySelector("[data-log]");
  var note = root.querySelector("[data-note]");
  var suggest = root.querySelector("[data-suggest]");
  var form = root.querySelector("form");
  var input = root.querySelector("textarea");
  input.placeholder = t.placeholder;
  input.setAttribute("aria-label", t.placeholder);
  root.querySelector("button").textContent = t.send;

  function show(frame) {
    if (seen[frame.id]) { return; }
    seen[frame.id] = true;
    if (frame.id > lastId) { lastId = frame.id; }
    var line = document.createElement("p");
    line.style.margin = "4px 0";
    var who = document.createElement("strong");
    who.textContent = (frame.direction === "in" ? t.you : t.agent) + ": ";
    line.appendChild(who);
    line.appendChild(document.createTextNode(frame.body)); // never HTML: text only
    log.appendChild(line);
    log.scrollTop = log.scrollHeight;
  }

  function say(text) { note.textContent = text; note.style.display = text ? "block" : "none"; }

  function connect() {
    var url = new URL("/v1/chat/ws", base);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", token);
    if (lastId) { url.searchParams.set("after", lastId); }
    socket = new WebSocket(url.toString());
    socket.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "message") { show(frame); }
      if (frame.type === "ack" && frame.client_id) { delete pending[frame.client_id]; }
      if (frame.type === "error") { say(t.error); }
    };
    socket.onopen = function () {
      say("");
      Object.keys(pending).forEach(function (id) { socket.send(JSON.stringify(pending[id])); });
    };
    socket.onclose = function (event) {
      if (event.code === 4401) { return; }
      say(t.reconnect);
      setTimeout(connect, 2000);
    };
  }

  var typing = null;
  input.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(function () {
      var q = input.value.trim();
      if (q.length < 3) { suggest.style.display = "none"; return; }
      var url = new URL("/v1/chat/suggestions", base);
      url.searchParams.set("token", token);
      url.searchParams.set("q", q);
      fetch(url.toString()).then(function (r) { return r.ok ? r.json() : { results: [] }; }).then(function (data) {
        suggest.innerHTML = "";
        (data.results || []).slice(0, 3).forEach(function (hit) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.textContent = hit.title;
          a.href = hit.url || "#";
          a.target = "_blank";
          a.rel = "noopener";
          li.appendChild(a);
          suggest.appendChild(li);
        });
        suggest.style.display = suggest.childNodes.length ? "block" : "none";
      }).catch(function () { suggest.style.display = "none"; });
    }, 300);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value.trim();
    if (!body) { return; }
    var id = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    pending[id] = { type: "message", body: body, client_id: id };
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(pending[id])); }
    input.value = "";
    suggest.style.display = "none";
  });

  fetch(new URL("/v1/chat/status", base).toString()).then(function (r) { return r.json(); }).then(function (s) {
    if (s.offer_email) {
      say(t.offline);
      if (supportEmail) {
        var a = document.createElement("a");
        a.href = "mailto:" + supportEmail;
        a.textContent = " " + t.email;
        note.appendChild(a);
      }
    }
  }).catch(function () {});

  document.body.appendChild(root);
  connect();
})();
