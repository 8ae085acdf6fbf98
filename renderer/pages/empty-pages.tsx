// Pages whose features come with later issues. Each says what will appear and that it is not built
// yet: a dashboard that shows made-up numbers would teach users to distrust the real ones.
import { PageHeader } from '../components/page-header.js';

export interface EmptyPageText {
  title: string;
  subtitle: string;
  /** The honest one-line answer: there is nothing here yet. */
  empty: string;
  /** What will appear here once it exists. */
  later: string;
}

export const EMPTY_PAGES = {
  wallet: {
    title: 'Wallet',
    subtitle: 'Where your earnings are paid.',
    empty: 'No payouts yet.',
    later:
      'Set the address you are paid to (one you control; a hardware wallet is fine) under Settings → Payouts. Offhours never asks for, shows or stores a seed phrase. Payments from hubs will be listed here; receiving payments is not built yet.',
  },
} as const satisfies Record<string, EmptyPageText>;

export type EmptyPageId = keyof typeof EMPTY_PAGES;

export function EmptyPage({ id }: { id: EmptyPageId }) {
  const page = EMPTY_PAGES[id];
  return (
    <>
      <PageHeader title={page.title} subtitle={page.subtitle} />
      <section className="card empty-state" data-testid="empty-state">
        <div className="empty-icon" aria-hidden="true" />
        <p className="empty-title">{page.empty}</p>
        <p className="empty-text">{page.later}</p>
      </section>
    </>
  );
}
