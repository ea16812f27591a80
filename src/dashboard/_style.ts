// The page's stylesheet (served with uPlot's as /assets/app.css). Colours: the Okabe–Ito palette
// (https://jfly.uni-koeln.de/color/), distinguishable with the common colour-vision deficiencies;
// states also carry words, never colour alone.
export const APP_CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1d21;--muted:#5a6069;--card:#f5f6f8;--border:#d3d7dd;
--link:#0061a0;--ok:#009E73;--near:#E69F00;--over:#D55E00;--grid:rgba(0,0,0,.09);
--s1:#0072B2;--s2:#E69F00;--s3:#009E73;--s4:#D55E00;--s5:#CC79A7;--s6:#56B4E9;--s7:#000000;--s8:#b8a800;
--line-alert:#D55E00;--line-reserved:#0072B2;
font:15px/1.4 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif}
@media (prefers-color-scheme:dark){:root{--bg:#121418;--fg:#e7e9ec;--muted:#a3aab4;--card:#1c2027;
--border:#363d47;--link:#7cc4f0;--grid:rgba(255,255,255,.1);--s1:#56B4E9;--s6:#8fd0f5;--s7:#e0e0e0;
--s8:#F0E442;--line-reserved:#56B4E9}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg)}
a{color:var(--link)}
:focus-visible{outline:3px solid var(--link);outline-offset:2px}
.top{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.6rem 1rem;border-bottom:1px solid var(--border)}
h1{font-size:1.2rem;margin:0}h1 small{font-weight:400;color:var(--muted);font-size:.9rem}
h2{font-size:1rem;margin:0 0 .4rem}h3{font-size:.85rem;font-weight:600;margin:0;color:var(--muted)}
.controls{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap}
button{font:inherit;color:var(--fg);background:var(--card);border:1px solid var(--border);border-radius:6px;padding:.3rem .7rem;min-height:2.2rem;cursor:pointer}
button[aria-pressed="true"]{background:var(--fg);color:var(--bg);border-color:var(--fg)}
.ranges{display:flex;gap:.25rem}
main{padding:.8rem 1rem;display:grid;gap:1rem}
.source{margin:0;padding:.5rem 1rem;font-size:.9rem}
.source[data-source="local"],.source[data-source="error"]{background:rgba(230,159,0,.18);border-bottom:2px solid var(--near)}
.source[data-source="prometheus"]{color:var(--muted)}
.source strong{margin-right:.4rem}
.alerts ul{list-style:none;margin:0;padding:0;display:grid;gap:.4rem}
.alerts li{background:var(--card);border:1px solid var(--border);border-left:6px solid var(--near);border-radius:6px;padding:.45rem .7rem}
.alerts li[data-severity="critical"]{border-left-color:var(--over)}
.alerts li.quiet{border-left-color:var(--ok);color:var(--muted)}
.alert-name{font-weight:600;margin-right:.4rem}.alert-meta{color:var(--muted);font-size:.85rem}
.alert-desc{margin:.2rem 0 0;font-size:.9rem}.alert-desc a{margin-left:.6rem}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.6rem}
.tile{background:var(--card);border:1px solid var(--border);border-top:5px solid var(--border);border-radius:8px;padding:.5rem .7rem}
.tile[data-state="ok"]{border-top-color:var(--ok)}.tile[data-state="near"]{border-top-color:var(--near)}
.tile[data-state="over"]{border-top-color:var(--over);background:rgba(213,94,0,.1)}
.tile .value{font-size:1.6rem;font-weight:650;margin:.1rem 0;font-variant-numeric:tabular-nums;white-space:nowrap}
.tile .note{margin:0;font-size:.8rem;color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,34rem),1fr));gap:.8rem}
.chart{margin:0;background:var(--card);border:1px solid var(--border);border-radius:8px;padding:.5rem;min-width:0}
.chart figcaption{font-weight:600;font-size:.9rem;margin:0 0 .3rem .2rem}
.plot{height:220px;position:relative}
.plot .empty{position:absolute;inset:40% 0 auto 0;text-align:center;color:var(--muted)}
.legend{list-style:none;margin:.3rem 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem .4rem;font-size:.8rem}
.legend button,.legend button[aria-pressed="true"]{min-height:1.8rem;padding:.1rem .45rem;display:inline-flex;gap:.35rem;align-items:center;background:transparent;color:var(--fg);border-color:var(--border);text-align:left}
.legend button[aria-pressed="false"]{opacity:.45;text-decoration:line-through}
.legend .swatch{width:1.1rem;height:0;border-top:3px solid currentColor;display:inline-block}
.legend .swatch.dash{border-top-style:dashed}.legend .swatch.dot{border-top-style:dotted}
.legend .s1 .swatch{color:var(--s1)}.legend .s2 .swatch{color:var(--s2)}.legend .s3 .swatch{color:var(--s3)}.legend .s4 .swatch{color:var(--s4)}
.legend .s5 .swatch{color:var(--s5)}.legend .s6 .swatch{color:var(--s6)}.legend .s7 .swatch{color:var(--s7)}.legend .s8 .swatch{color:var(--s8)}
.legend .val{font-variant-numeric:tabular-nums;color:var(--muted)}
.legend .line-note{color:var(--muted);padding:.1rem .3rem}.legend .line-note.alert{color:var(--line-alert)}.legend .line-note.reserved{color:var(--line-reserved)}
footer{padding:.4rem 1rem 1rem;color:var(--muted);font-size:.8rem}
.login main{max-width:26rem;margin:10vh auto;display:block}
.login form{display:grid;gap:.5rem}.login input{font:inherit;padding:.45rem;border:1px solid var(--border);border-radius:6px;background:var(--bg);color:var(--fg)}
.login .wrong{color:var(--over);font-weight:600}
@media (max-width:600px){.tiles{grid-template-columns:repeat(2,1fr)}.tile .value{font-size:1.3rem}main{padding:.6rem}.plot{height:180px}}
`
