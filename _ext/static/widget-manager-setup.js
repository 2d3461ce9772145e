// Runs between require.js and embed-amd.js on pages with widget outputs.

// 1. Point require.js at the book's own copy of the widget manager.
//    embed-amd.js looks for its fonts next to its module, which require.js
//    places under its baseUrl (the page's folder by default). With baseUrl
//    set to this script's folder, every page finds them in
//    _static/offline/@jupyter-widgets/html-manager/dist/, however deep it is.
(function () {
  var src = document.currentScript.src;
  require.config({ baseUrl: src.slice(0, src.lastIndexOf("/") + 1) });
})();

// 2. The widgets typeset their labels with MathJax 2's MathJax.Hub.Queue; the
//    book loads MathJax 3, which has no Hub. Translate the one call they make.
//    MathJax 3 (a deferred script) has replaced window.MathJax by the time
//    DOMContentLoaded fires, and this listener runs before the widget manager's.
document.addEventListener("DOMContentLoaded", function () {
  var mathjax = window.MathJax;
  if (!mathjax || !mathjax.startup || mathjax.Hub) return;
  mathjax.Hub = {
    Queue: function (job) {  // job is ["Typeset", MathJax.Hub, element]
      mathjax.startup.promise.then(function () {
        return mathjax.typesetPromise([job[2]]);
      });
    },
  };
});
