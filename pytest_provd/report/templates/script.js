(function () {
  document.querySelectorAll("[data-filter]").forEach(function (button) {
    button.addEventListener("click", function () {
      document.body.classList.remove("only-failing", "only-changed");
      if (button.dataset.filter) { document.body.classList.add(button.dataset.filter); }
    });
  });
  document.querySelectorAll("[data-details]").forEach(function (button) {
    button.addEventListener("click", function () {
      var open = button.dataset.details === "open";
      document.querySelectorAll("details").forEach(function (d) { d.open = open; });
    });
  });
})();
