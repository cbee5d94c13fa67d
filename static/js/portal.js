/* Review Portal's own behaviour, beside the U.S. Web Design System's script.
 *
 * Wide tables scroll sideways inside .portal-table-wrap on a narrow screen, and long lines of code
 * inside their <pre>. A keyboard can scroll only what it can focus (WCAG 2.1.1), so a box that
 * scrolls becomes a focusable region named after its table (or "Code"); one that fits the screen
 * stays out of the tab order. Attributes written in the markup are left as they are.
 */
(() => {
  "use strict";

  const MANAGED = "data-portal-scroll-region";
  const SCROLLERS = ".portal-table-wrap, .portal-markdown pre, pre.portal-code";

  function regionName(wrap) {
    if (wrap.tagName === "PRE") return "Code";
    const caption = wrap.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    const labelled = wrap.querySelector("[aria-labelledby]");
    const heading = labelled && document.getElementById(labelled.getAttribute("aria-labelledby"));
    if (heading && heading.textContent.trim()) return heading.textContent.trim();
    for (let el = wrap.previousElementSibling; el; el = el.previousElementSibling) {
      if (/^H[1-6]$/.test(el.tagName) && el.textContent.trim()) return el.textContent.trim();
    }
    return "Table";
  }

  function updateScrollRegions() {
    for (const wrap of document.querySelectorAll(SCROLLERS)) {
      const managed = wrap.hasAttribute(MANAGED);
      if (!managed && wrap.hasAttribute("tabindex")) continue;
      const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls && !managed) {
        wrap.setAttribute(MANAGED, "");
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", `${regionName(wrap)} (scrolls sideways)`);
      } else if (!scrolls && managed) {
        for (const name of [MANAGED, "tabindex", "role", "aria-label"]) wrap.removeAttribute(name);
      }
    }
  }

  let pending = false;
  function soon() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(() => {
      pending = false;
      updateScrollRegions();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", updateScrollRegions);
  } else {
    updateScrollRegions();
  }
  window.addEventListener("resize", soon);
})();
