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

  function documentKeys() {
    document.addEventListener("keydown", function (event) {
      if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (event.key === "u" || event.key === "Escape") {
        var back = document.getElementById("back-to-queue");
        if (back) { back.click(); }
      } else if (event.key === "e") {
        var first = document.querySelector("#fields-form input:not([type=hidden])");
        if (first) { first.focus(); event.preventDefault(); }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.body.classList.contains("queue")) { queueKeys(); }
    if (document.body.classList.contains("document")) {
      placeBoxes();
      linkFieldsToBoxes();
      documentKeys();
    }
  });
})();
