import { useEffect } from 'react';

/** Sets the document title (what a screen reader announces on navigation, and the tab's name). */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · boxoffice` : 'boxoffice';
  }, [title]);
}
