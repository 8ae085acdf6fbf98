// Every page's heading. It takes focus after navigation (tabIndex -1), so screen readers announce the new page.
export function PageHeader({ title, subtitle }: { title: string; subtitle?: string }) {
  return (
    <header className="page-header">
      <h1 tabIndex={-1} className="page-title">
        {title}
      </h1>
      {subtitle && <p className="page-subtitle">{subtitle}</p>}
    </header>
  );
}
