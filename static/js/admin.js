/* Accessibility fixes to the Django admin (loaded by templates/admin/base_site.html).
 *
 * The autocomplete widget (Select2) stands in for a hidden <select>: its combobox is named only
 * by the value chosen (nothing while empty) and its text box by nothing, so a screen reader cannot
 * say which field it is. Each gets the field's label as its name, for the widgets on the page and
 * for those added with an inline form's "Add another".
 */
(() => {
  "use strict";

  function nameSelect2(selection) {
    const container = selection.closest(".select2-container");
    const select = container && container.previousElementSibling;
    if (!select || select.tagName !== "SELECT" || !select.id) return;
    const label = document.querySelector(`label[for="${CSS.escape(select.id)}"]`);
    if (!label) return;
    if (!label.id) label.id = `${select.id}-label`;
    const rendered = selection.querySelector(".select2-selection__rendered");
    selection.setAttribute("aria-labelledby", [label.id, rendered && rendered.id].filter(Boolean).join(" "));
    if (rendered) rendered.setAttribute("aria-labelledby", label.id);
  }

  function nameAll(root) {
    for (const selection of root.querySelectorAll(".select2-selection")) nameSelect2(selection);
  }

  document.addEventListener("DOMContentLoaded", () => {
    nameAll(document);
    new MutationObserver((changes) => {
      for (const change of changes) {
        for (const node of change.addedNodes) {
          if (node.nodeType !== Node.ELEMENT_NODE) continue;
          if (node.matches(".select2-selection")) nameSelect2(node);
          nameAll(node);
        }
      }
    }).observe(document.body, { childList: true, subtree: true });
  });
})();
