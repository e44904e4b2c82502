"""The eval report's inline stylesheet and script (the page loads nothing from the network)."""

CSS = """
:root { --fg: #212529; --muted: #6c757d; --line: #dee2e6; --bg: #f8f9fa; --pass: #2b8a3e; --fail: #c92a2a; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Noto Sans CJK SC",
  "Microsoft YaHei", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px; }
header, section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
  margin-bottom: 16px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h1 .dataset { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; }
h2 { font-size: 17px; margin: 0 0 8px; }
.meta, .note, .muted { color: var(--muted); }
.meta { margin: 0 0 8px; }
.note { margin: -4px 0 12px; font-size: 13px; }
.settings { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 12px; }
.setting { background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 1px 8px;
  font-size: 12px; }
.setting b { font-weight: 600; color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 16px; min-width: 120px; }
.card-value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card-label { color: var(--muted); font-size: 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; vertical-align: bottom; }
table.metrics thead th { max-width: 78px; }
td.num { text-align: right; }
td.rate { position: relative; min-width: 64px; }
td.rate .bar { position: absolute; left: 0; top: 3px; bottom: 3px; background: #d0ebff; border-radius: 2px;
  z-index: 0; }
td.rate span:last-child { position: relative; z-index: 1; }
th.row-head { font-weight: 600; }
tr.lang-all td, tr.lang-all th { border-top: 2px solid var(--line); }
.lang { display: inline-block; color: #fff; border-radius: 3px; padding: 0 6px; font-size: 12px;
  font-weight: 600; }
.chart-row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.chart { flex: 1 1 480px; min-width: 0; max-width: 640px; }
.chart svg { width: 100%; height: auto; }
svg text { font-size: 12px; fill: var(--muted); font-family: inherit; }
svg .legend { fill: var(--fg); }
svg .grid { stroke: #e9ecef; }
svg .bar { fill: #74c0fc; }
svg .bar:hover { fill: #1c7ed6; }
svg .overflow { fill: #ffa94d; }
svg .marker { stroke: var(--fg); stroke-dasharray: 4 3; }
svg .marker-label { fill: var(--fg); }
table.small td, table.small th { padding: 3px 8px; }
table.stages tr.total th, table.stages tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 12px;
  position: sticky; top: 0; background: #fff; padding: 8px 0; z-index: 2; }
.filters select, .filters input { font: inherit; padding: 4px 8px; border: 1px solid #ced4da;
  border-radius: 4px; background: #fff; }
.filters input { flex: 1; min-width: 220px; }
.count { color: var(--muted); }
.q { border: 1px solid var(--line); border-left: 4px solid var(--pass); border-radius: 6px;
  padding: 10px 14px; margin-bottom: 10px; }
.q.fail { border-left-color: var(--fail); background: #fff8f8; }
.q-tags { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.q-text { font-size: 15px; margin: 6px 0; font-weight: 600; }
.verdict { font-size: 11px; font-weight: 700; border-radius: 3px; padding: 0 6px; color: #fff; }
.verdict.pass { background: var(--pass); }
.verdict.fail { background: var(--fail); }
.qid { font-family: ui-monospace, Menlo, monospace; font-size: 12px; }
.tag { font-size: 12px; color: var(--muted); border: 1px solid var(--line); border-radius: 3px; padding: 0 6px; }
.tag.unanswerable { color: #862e9c; border-color: #e5dbff; }
dl { display: grid; grid-template-columns: 110px 1fr; gap: 4px 12px; margin: 0; }
dt { color: var(--muted); font-size: 12px; padding-top: 2px; }
dd { margin: 0; min-width: 0; }
.answer { white-space: pre-wrap; }
.answer.refused { color: var(--muted); font-style: italic; }
.expected { display: inline-block; background: #ebfbee; border: 1px solid #b2f2bb; border-radius: 3px;
  padding: 0 6px; margin: 0 4px 2px 0; }
.citation { margin-bottom: 4px; }
.cite-n { font-weight: 600; color: #1c7ed6; }
details { display: inline; }
summary { display: inline; cursor: pointer; color: #1c7ed6; font-size: 12px; margin-left: 6px; }
.passage { white-space: pre-wrap; background: var(--bg); border-radius: 4px; padding: 6px 10px; margin-top: 4px;
  font-size: 13px; }
.empty { color: var(--muted); }
"""

SCRIPT = """
(function () {
  var lang = document.getElementById('f-lang'), result = document.getElementById('f-result'),
      type = document.getElementById('f-type'), text = document.getElementById('f-text'),
      count = document.getElementById('f-count');
  if (!lang) return;
  var cards = Array.prototype.slice.call(document.querySelectorAll('#questions .q'));
  function apply() {
    var q = text.value.trim().toLowerCase(), shown = 0;
    cards.forEach(function (card) {
      var ok = (!lang.value || card.dataset.lang === lang.value) &&
               (!result.value || card.dataset.result === result.value) &&
               (!type || !type.value || card.dataset.type === type.value) &&
               (!q || card.textContent.toLowerCase().indexOf(q) >= 0);
      card.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown + ' of ' + cards.length;
  }
  [lang, result, type].forEach(function (el) { if (el) el.addEventListener('change', apply); });
  text.addEventListener('input', apply);
})();
"""
