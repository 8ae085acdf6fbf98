// Hands text to the browser as a file download. The export needs the bearer token, so it is
// fetched by the connection and saved from memory rather than through a plain link.
export function saveTextFile(name: string, text: string, type = 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked after the click has started the download, which reads the blob asynchronously.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
