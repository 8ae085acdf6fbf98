// What the window shows when there is no dashboard to load: while the agent starts, and when it
// keeps failing. A data: URL, so it needs no agent and no file on disk; it has no script and gets
// no token (window-security.ts answers only the agent's origin).
export interface StatusPageText {
  title: string;
  detail: string;
  hint?: string;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function statusPageUrl(text: StatusPageText): string {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Offhours</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; display: grid; place-items: center; min-height: 100vh;
         color: #1d2430; background: #f4f6f8; }
  @media (prefers-color-scheme: dark) { body { color: #e6e9ee; background: #171b22; } }
  main { max-width: 34rem; padding: 2rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
  p { margin: .4rem 0; }
  .hint { opacity: .75; }
</style></head>
<body><main>
<h1>${escapeHtml(text.title)}</h1>
<p>${escapeHtml(text.detail)}</p>
${text.hint !== undefined ? `<p class="hint">${escapeHtml(text.hint)}</p>` : ''}
</main></body></html>`;
  return `data:text/html;charset=utf-8,${encodeURIComponent(html)}`;
}
