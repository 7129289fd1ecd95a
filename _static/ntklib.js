/* The book's reading aids (tests/test_site.py checks them).
 *
 * 1. Scroll cue: display equations, inline formulas, tables and check reports that are wider than the
 *    text scroll inside their box; mark those that overflow (ntklib.css draws a shadow on the side
 *    where more is hidden) and put a hint under the wide blocks.
 * 2. Figures on narrow screens (below 992 px): never shrunk below MIN_FIGURE_SCALE of their natural
 *    width, where the theme's text would become too small to read; a wider figure scrolls sideways in
 *    its own box.  On wide screens figures are drawn for the text column and shown as drawn.
 * 3. Live Code without network: Thebe comes from unpkg.com and its kernel from mybinder.org; when
 *    either cannot be reached, say so and say what still works, instead of "Loading" for ever.
 */
(() => {
  "use strict";

  // --- 1. scroll cue -------------------------------------------------------------------------
  // (div.output.text_html: a cell's HTML output, e.g. a pandas table, which myst-nb lets scroll)
  const BLOCKS = "div.math > mjx-container, .ntklib-scroll, .pst-scrollable-table-container, div.cell_output > div.output.text_html";
  const SCROLLERS = BLOCKS + ", span.math";
  const HINT = "ntklib-scroll-hint";

  // An inline formula overflows when it is wider than the block of text it sits in (the theme lets it
  // stick out by a pixel or two, e.g. a square root's bar; that is not a reason to scroll it).
  const overflows = (el) => {
    if (!el.matches("span.math")) return el.scrollWidth > el.clientWidth + 1;
    const math = el.querySelector("mjx-math") || el.firstElementChild;
    const block = el.closest("p, li, dd, dt, td, th, figcaption, div");
    return math !== null && block !== null && math.getBoundingClientRect().width > block.clientWidth;
  };
  const update = (el) => {
    const over = overflows(el);
    el.classList.toggle("ntklib-overflows", over);
    el.classList.toggle("ntklib-at-start", el.scrollLeft <= 0);
    el.classList.toggle("ntklib-at-end", el.scrollLeft + el.clientWidth >= el.scrollWidth - 1);
    if (!el.matches(BLOCKS)) return;
    const anchor = el.parentElement.matches("div.math") ? el.parentElement : el;
    const next = anchor.nextElementSibling;
    const hinted = next !== null && next.classList.contains(HINT);
    if (over && !hinted) {
      const hint = document.createElement("div");
      hint.className = HINT;
      hint.setAttribute("aria-hidden", "true");
      hint.textContent = "\u21c6 wider than the screen: scroll it sideways";
      anchor.insertAdjacentElement("afterend", hint);
    } else if (!over && hinted) {
      next.remove();
    }
  };
  const updateAll = () => document.querySelectorAll(SCROLLERS).forEach(update);
  window.ntklibUpdateScrollCues = updateAll;     // for the site test, after it changes the viewport

  document.addEventListener("scroll", (e) => {
    if (e.target instanceof Element && e.target.matches(SCROLLERS)) update(e.target);
  }, true);
  document.addEventListener("toggle", updateAll, true);     // <details> of a long report opened
  let resizing = null;
  window.addEventListener("resize", () => { clearTimeout(resizing); resizing = setTimeout(updateAll, 150); });
  const start = () => {
    updateAll();
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(updateAll);
  };
  if (document.readyState === "complete") start(); else window.addEventListener("load", start);

  // --- 2. figures on narrow screens ------------------------------------------------------------
  // The figures' smallest text is 11 pt (ntklib.set_theme), about 15 px at 100 dpi or in an SVG: at
  // 0.85 of the natural width it stays above 0.75 x the body text, which tests/test_site.py requires.
  const MIN_FIGURE_SCALE = 0.85;
  // On wide screens a figure must fit the text column (it is drawn for it): nothing to do there.
  const narrow = window.matchMedia("(max-width: 991.98px)");
  const keepLegible = (img) => {
    if (!img.naturalWidth) return;
    const box = img.parentElement;
    const min = Math.ceil(MIN_FIGURE_SCALE * img.naturalWidth);
    const wrapped = box.classList.contains("ntklib-figure-scroll");
    if (!narrow.matches || min <= (wrapped ? box.parentElement : box).clientWidth) {
      img.style.width = "";
      return;
    }
    img.style.width = min + "px";
    if (!wrapped) {
      const scroller = document.createElement("div");
      scroller.className = "ntklib-scroll ntklib-figure-scroll";
      img.replaceWith(scroller);
      scroller.appendChild(img);
      update(scroller);
    }
  };
  const figures = () => document.querySelectorAll("article figure img, article div.cell_output img");
  const legibleFigures = () => figures().forEach((img) => {
    if (img.complete) keepLegible(img); else img.addEventListener("load", () => keepLegible(img), {once: true});
  });
  window.addEventListener("resize", () => setTimeout(() => { legibleFigures(); updateAll(); }, 200));
  if (document.readyState === "complete") legibleFigures(); else window.addEventListener("load", legibleFigures);

  // --- 3. Live Code without network ----------------------------------------------------------
  const WAIT_MS = 30000;      // no word from Binder for this long after Thebe loaded: unreachable
  let failed = false;
  let heard = false;

  const offline = (what) => {
    if (failed) return;
    failed = true;
    const box = document.querySelector(".thebe-launch-button");
    if (!box) return;
    box.classList.add("ntklib-live-code-offline");
    box.setAttribute("role", "status");
    box.disabled = true;
    box.innerHTML = "";
    const strong = document.createElement("strong");
    strong.textContent = "Live Code is not available: ";
    box.append(strong, document.createTextNode(
      what + ". Live Code runs this page's cells on mybinder.org and needs a network connection. " +
      "Everything shown here was computed when the book was built. To run the code yourself, " +
      "download the chapter (the download button, .md) and open it in Jupyter with jupytext, " +
      "or try Live Code again when you are online."));
  };

  // The Thebe script is added to <head> when the reader clicks Live Code; a load error does not bubble.
  window.addEventListener("error", (e) => {
    const el = e.target;
    if (el instanceof HTMLScriptElement && typeof THEBE_JS_URL === "string" && el.src === THEBE_JS_URL) {
      offline("the Thebe script (unpkg.com) could not be loaded");
    }
  }, true);

  document.addEventListener("click", (e) => {
    if (!(e.target instanceof Element) || !e.target.closest(".btn-launch-thebe")) return;
    if (navigator.onLine === false) {
      setTimeout(() => offline("this browser is offline"), 0);
      return;
    }
    const started = Date.now();
    const watch = setInterval(() => {
      if (failed) return clearInterval(watch);
      if (typeof thebelab !== "undefined" && typeof thebelab.on === "function" && !watch.hooked) {
        watch.hooked = true;
        thebelab.on("status", (evt, data) => {
          heard = true;
          if (data && (data.status === "failed" || data.status === "dead")) {
            offline("mybinder.org could not start a kernel (" + data.status + ")");
          }
        });
      }
      if (heard) return clearInterval(watch);
      if (Date.now() - started > WAIT_MS) {
        clearInterval(watch);
        offline("mybinder.org did not answer within " + WAIT_MS / 1000 + " seconds");
      }
    }, 500);
  }, true);
})();
