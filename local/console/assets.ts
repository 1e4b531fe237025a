/** The console's stylesheet and its one small script, inlined in every page (no build step). */

export const STYLE = `
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#f6f8fa;--ok:#1a7f37;--ok-bg:#dafbe1;
--bad:#cf222e;--bad-bg:#ffebe9;--warn:#9a6700;--warn-bg:#fff8c5;--run:#0969da;--run-bg:#ddf4ff}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--fg)}
a{color:var(--run);text-decoration:none}a:hover{text-decoration:underline}
header.top{display:flex;gap:.75rem;align-items:center;padding:.6rem 1.25rem;background:#24292f;color:#fff}
header.top a{color:#fff}header.top .home{font-weight:600}header.top small{opacity:.7;font-weight:400}
header.top .crumb::before{content:"/";margin-right:.75rem;opacity:.5}
main{padding:1rem 1.25rem;max-width:1400px}h1{font-size:1.35rem;margin:.2rem 0 .6rem;word-break:break-all}
h2{font-size:1.05rem;margin:1.2rem 0 .5rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid var(--line);padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600;font-size:.85rem}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:2em;padding:0 .6em;font-size:.8rem;font-weight:600;border:1px solid}
.b-succeeded{color:var(--ok);background:var(--ok-bg)}.b-failed,.b-timed-out{color:var(--bad);background:var(--bad-bg)}
.b-aborted{color:var(--muted);background:var(--bg)}.b-running{color:var(--run);background:var(--run-bg)}
.b-caught{color:var(--warn);background:var(--warn-bg)}
.filters{display:flex;gap:.75rem;flex-wrap:wrap;align-items:end;margin:.5rem 0 1rem}.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted)}
select,input,button{font:inherit;padding:.25rem .4rem;border:1px solid var(--line);border-radius:6px;background:#fff}
button{cursor:pointer;background:var(--bg)}
.pager{display:flex;gap:1rem;align-items:center;margin:.75rem 0}.muted{color:var(--muted)}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:.4rem 1.25rem;margin:.5rem 0 1rem}
.facts div{display:flex;flex-direction:column;align-items:flex-start}.facts span{font-size:.78rem;color:var(--muted)}
.error{border:1px solid var(--bad);background:var(--bad-bg);padding:.5rem .75rem;border-radius:6px;margin:.5rem 0}
.run{display:grid;grid-template-columns:minmax(320px,auto) minmax(340px,1fr);gap:1.25rem;align-items:start}
@media (max-width:900px){.run{grid-template-columns:1fr}}
.canvas{border:1px solid var(--line);border-radius:8px;background:#fbfcfd;overflow:auto;padding:.5rem}
svg.graph{display:block;max-width:none}svg.graph text{font-size:12.5px;text-anchor:middle;fill:var(--fg)}
svg.graph .note{font-size:11px;fill:var(--muted)}svg.graph .title{font-weight:600}
.state rect{fill:#fff;stroke:#8c959f;stroke-width:1.5}.state{cursor:pointer}.state:focus{outline:none}
.state.container>rect{fill:#f6f8fa;stroke-dasharray:5 3}
.s-succeeded>rect{fill:var(--ok-bg);stroke:var(--ok)}.s-failed>rect{fill:var(--bad-bg);stroke:var(--bad)}
.s-caught>rect{fill:var(--warn-bg);stroke:var(--warn)}.s-running>rect{fill:var(--run-bg);stroke:var(--run)}
.s-aborted>rect{fill:#eaeef2;stroke:var(--muted)}.s-not-run>rect{fill:#fff;stroke:#afb8c1}
.state.container.s-succeeded>rect,.state.container.s-failed>rect,.state.container.s-caught>rect{fill-opacity:.35}
.state.selected>rect,.state:focus-visible>rect{stroke-width:3.5}
.terminal rect{fill:#24292f}.terminal text{fill:#fff!important;font-size:11px!important}
.edge{fill:none;stroke:#6e7781;stroke-width:1.4}.edge.catch{stroke:var(--bad);stroke-dasharray:4 3}marker path{fill:#6e7781}
.legend{display:flex;gap:.6rem;flex-wrap:wrap;margin:.4rem 0;font-size:.8rem}
.panel{border:1px solid var(--line);border-radius:8px;padding:.75rem 1rem;min-height:8rem}
.panel h3{margin:.1rem 0 .4rem;font-size:1rem}
pre.json{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.5rem;max-height:22rem;overflow:auto;white-space:pre-wrap;word-break:break-all;margin:.25rem 0 .75rem;font-size:12.5px}
pre.json.empty{color:var(--muted)}
details>summary{cursor:pointer;font-weight:600;margin:.5rem 0}details.inline>summary{font-weight:400;color:var(--run)}
td pre.json{max-height:14rem}
`;

/**
 * Live refresh (pages marked data-live re-fetch themselves and swap their content), state
 * clicks that load a state's input and output, and lazily loaded fragments (the event table,
 * iteration pages) — so a large run's page stays small until asked for more.
 */
export const CLIENT_SCRIPT = `
(() => {
  const main = () => document.getElementById('main');
  let selected = null;
  const load = async (url, into) => {
    into.setAttribute('aria-busy', 'true');
    const res = await fetch(url, { headers: { accept: 'text/html' } });
    into.innerHTML = await res.text();
    into.removeAttribute('aria-busy');
  };
  const select = (node) => {
    document.querySelectorAll('.state.selected').forEach((n) => n.classList.remove('selected'));
    if (!node) return;
    node.classList.add('selected');
    selected = node.dataset.state;
    const panel = document.getElementById('panel');
    if (panel) load(panel.dataset.src + '&state=' + encodeURIComponent(selected), panel);
  };
  document.addEventListener('click', (event) => {
    const state = event.target.closest && event.target.closest('.state[data-state]');
    if (state) { event.preventDefault(); select(state); return; }
    const frag = event.target.closest && event.target.closest('a.frag');
    if (frag) {
      event.preventDefault();
      load(frag.getAttribute('href'), frag.closest('[data-frame]'));
    }
  });
  document.addEventListener('keydown', (event) => {
    const state = event.target.closest && event.target.closest('.state[data-state]');
    if (state && (event.key === 'Enter' || event.key === ' ')) { event.preventDefault(); select(state); }
  });
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!form.matches('form.frag')) return;
    event.preventDefault();
    const url = form.getAttribute('action') + '?' + new URLSearchParams(new FormData(form));
    load(url, form.closest('[data-frame]'));
  });
  document.addEventListener('toggle', (event) => {
    const details = event.target;
    if (details.open && details.dataset.src && !details.dataset.loaded) {
      details.dataset.loaded = 'true';
      load(details.dataset.src, details.querySelector('[data-frame]'));
    }
  }, true);
  // Live pages: re-fetch every 2 s while the page says the run (or a listed run) is running;
  // keep what the reader opened (the selected state, open sections) across refreshes.
  const refresh = async () => {
    if (document.body.dataset.live !== 'true' || document.hidden) return schedule();
    try {
      const res = await fetch(location.href, { headers: { accept: 'text/html' } });
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const next = doc.getElementById('main');
      const live = doc.getElementById('live');
      const mine = document.getElementById('live');
      if (live && mine) mine.replaceWith(live);
      else if (next) main().innerHTML = next.innerHTML;
      if (selected) {
        const node = [...document.querySelectorAll('.state[data-state]')].find((n) => n.dataset.state === selected);
        if (node) { node.classList.add('selected'); const panel = document.getElementById('panel'); if (panel) load(panel.dataset.src + '&state=' + encodeURIComponent(selected), panel); }
      }
      document.body.dataset.live = doc.body.dataset.live || 'false';
    } catch {}
    schedule();
  };
  const schedule = () => setTimeout(refresh, 2000);
  schedule();
})();
`;
