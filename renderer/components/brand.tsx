// The Offhours mark: a crescent (off hours) over a chip, drawn inline so it needs no image request.
export function BrandMark({ size = 28 }: { size?: number }) {
  return (
    <svg className="brand-mark" width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect x="1" y="1" width="30" height="30" rx="8" className="brand-mark-bg" />
      <path d="M19.5 8.5a8 8 0 1 0 4 13.6A6.5 6.5 0 0 1 19.5 8.5Z" className="brand-mark-fg" />
    </svg>
  );
}

export function Brand() {
  return (
    <span className="brand">
      <BrandMark />
      <span className="brand-name">Offhours</span>
    </span>
  );
}
