// ledgerbot review: keyboard navigation of the queue and field-box highlighting. No framework.
(function () {
  "use strict";

  function typing(event) {
    var t = event.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }

  // Boxes are placed here rather than in inline styles, so the CSP can forbid inline styles.
  function placeBoxes() {
    document.querySelectorAll(".box[data-left]").forEach(function (box) {
      box.style.left = box.dataset.left + "%";
      box.style.top = box.dataset.top + "%";
      box.style.width = box.dataset.width + "%";
      box.style.height = box.dataset.height + "%";
      var turn = parseFloat(box.dataset.rotate || "0");
      if (turn) { box.style.transform = "rotate(" + turn + "deg)"; }
    });
  }

  function linkFieldsToBoxes() {
    document.querySelectorAll("tr[data-field]").forEach(function (row) {
      var name = row.dataset.field;
      var boxes = document.querySelectorAll('.box[data-field="' + name + '"]');
      function on() {
        row.classList.add("hot");
        boxes.forEach(function (b) { b.classList.add("hot"); });
        if (boxes[0]) { boxes[0].scrollIntoView({ block: "nearest" }); }
      }
      function off() {
        row.classList.remove("hot");
        boxes.forEach(function (b) { b.classList.remove("hot"); });
      }
      row.addEventListener("mouseenter", on);
      row.addEventListener("mouseleave", off);
      row.addEventListener("focusin", on);
      row.addEventListener("focusout", off);
    });
    document.querySelectorAll(".box[data-field]").forEach(function (box) {
      box.addEventListener("click", function () {
        var input = document.getElementById("f-" + box.dataset.field);
        if (input) { input.focus(); input.select(); }
      });
    });
  }

  function queueKeys() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#queue tbody tr[data-href]"));
    var current = -1;
    function select(i) {
      if (!rows.length) { return; }
      current = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (r) { r.classList.remove("selected"); });
      rows[current].classList.add("selected");
      rows[current].scrollIntoView({ block: "nearest" });
    }
    rows.forEach(function (row, i) {
      row.addEventListener("click", function (event) {
        if (event.target.closest("a, button")) { return; }
        window.location.href = row.dataset.href;
      });
      row.addEventListener("mouseenter", function () { current = i; });
    });
    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) { return; }
      var link;
      switch (event.key) {
        case "j": case "ArrowDown": select(current + 1); event.preventDefault(); break;
        case "k": case "ArrowUp": select(current - 1); event.preventDefault(); break;
        case "Enter": case "o":
          if (current >= 0) { window.location.href = rows[current].dataset.href; event.preventDefault(); }
          break;
        case "c":
          if (current >= 0) {
            var button = rows[current].querySelector("button.claim");
            if (button) { button.click(); }
          }
          break;
        case "/":
          var box = document.getElementById("filter-vendor");
          if (box) { box.focus(); event.preventDefault(); }
          break;
        case "n": link = document.getElementById("next-page"); if (link) { link.click(); } break;
        case "p": link = document.getElementById("prev-page"); if (link) { link.click(); } break;
      }
    });
  }

  // Sends a decision form on to the queue's next document once it is done (confirm-and-next).
  function submitThenNext(form) {
    var then = form.querySelector("input.then");
    if (then) { then.value = "next"; }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  function documentKeys() {
    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) { return; }
      var form, link, reason;
      switch (event.key) {
        case "u": case "Escape":
          link = document.getElementById("back-to-queue");
          if (link) { link.click(); }
          break;
        case "e":
          var first = document.querySelector("#fields-form tr.low input:not([type=hidden]):not([type=checkbox])")
            || document.querySelector("#fields-form input:not([type=hidden])");
          if (first) { first.focus(); event.preventDefault(); }
          break;
        case "y":
          // Every shaky value was checked against the page and is right as read.
          form = document.getElementById("fields-form");
          if (!form) { break; }
          form.querySelectorAll("tr.low input[type=checkbox][name^='confirm.']").forEach(function (box) {
            box.checked = true;
          });
          submitThenNext(form);
          event.preventDefault();
          break;
        case "s":
          form = document.getElementById("fields-form");
          if (form && document.getElementById("save-fields")) { form.requestSubmit(); event.preventDefault(); }
          break;
        case "a":
          form = document.getElementById("approve-form");
          if (!form) { break; }
          reason = document.getElementById("approve-reason");
          form.querySelector("input.then").value = "next";
          if (reason) { reason.focus(); } else { submitThenNext(form); }
          event.preventDefault();
          break;
        case "r":
          form = document.getElementById("reject-form");
          if (!form) { break; }
          form.querySelector("input.then").value = "next";
          document.getElementById("reject-reason").focus();
          event.preventDefault();
          break;
        case "n":
          link = document.getElementById("next-doc");
          if (link) { link.click(); }
          break;
        case "+": case "=": zoom(1.25); break;
        case "-": zoom(0.8); break;
        case "o": rotate(); break;
      }
    });
  }

  var scale = 1;
  var turn = 0;
  function applyView() {
    document.querySelectorAll(".viewer .page").forEach(function (page) {
      page.style.width = (100 * scale) + "%";
      page.style.transform = turn ? "rotate(" + turn + "deg)" : "";
    });
  }
  function zoom(factor) {
    scale = Math.max(0.5, Math.min(4, scale * factor));
    applyView();
  }
  function rotate() {
    turn = (turn + 90) % 360;
    applyView();
  }
  function viewerButtons() {
    var bind = function (id, action) {
      var button = document.getElementById(id);
      if (button) { button.addEventListener("click", action); }
    };
    bind("zoom-in", function () { zoom(1.25); });
    bind("zoom-out", function () { zoom(0.8); });
    bind("rotate", rotate);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.body.classList.contains("queue")) { queueKeys(); }
    if (document.body.classList.contains("document")) {
      placeBoxes();
      linkFieldsToBoxes();
      documentKeys();
      viewerButtons();
    }
  });
})();
