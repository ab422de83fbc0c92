// How the page words times, subjects and record types for a clerk.
import { clerkDate } from './clerk.js';

export const TYPE_WORDS: Record<string, string> = {
  commission: 'Registered (commissioned)',
  pack: 'Packed',
  ship: 'Shipped',
  receive: 'Received',
  unpack: 'Unpacked',
  decommission: 'Taken out of circulation',
  reactivate: 'Reactivated',
  quarantine: 'Put on suspect hold',
  release: 'Released from hold',
};

export function timeText(t: string): string {
  const m = /T(\d{2}:\d{2})/.exec(t);
  return `${clerkDate(t)}${m ? ` ${m[1]} UTC` : ''}`;
}

export function subjectText(s: string): string {
  const u = /^01\/(\d{14})\/21\/(.+)$/.exec(s);
  if (u) return `pack GTIN ${u[1]} serial ${decodeURIComponent(u[2]!)}`;
  const c = /^00\/(\d{18})$/.exec(s);
  return c ? `pallet/case SSCC ${c[1]}` : s;
}
