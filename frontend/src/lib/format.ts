import { useEffect, useState } from 'react';
import type { TimelineItem } from './api';

export function ago(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

export const incidentTypeLabel: Record<string, string> = {
  sessionConflict: 'Session conflict',
  sharedConfig: 'Shared config',
  suspiciousActivity: 'Suspicious activity',
};

export const actorName = (a: { name?: string } | null | undefined) => a?.name ?? 'system';

/** `datetime-local` value (local time) → ISO-8601 UTC, or undefined when empty. */
export const localToIso = (v: string) => (v ? new Date(v).toISOString() : undefined);

/** The current time, refreshed every `everyMs`, so relative times ("2 min ago") stay true without refetching. */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}

/** "GroupMembersSet" → "group members set". */
export const eventLabel = (type: string) => type.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

/** A timeline entry in words: the server's sentence, or (an event type it has no sentence for) the type and subject. */
export const summaryOf = (it: Pick<TimelineItem, 'summary' | 'type' | 'subject'>) =>
  it.summary?.trim() || `${eventLabel(it.type)}${it.subject ? ` (${it.subject.name})` : ''}`;
