import type { ToolState } from './run-state';

/** A small icon per tool-call state; the state's name is given to screen readers by the caller. */
export function StateIcon({ state }: { state: ToolState | 'waiting' }) {
  const common = { width: 16, height: 16, viewBox: '0 0 16 16', 'aria-hidden': true, className: `state-icon state-icon-${state}` } as const;
  switch (state) {
    case 'proposed':
      return (
        <svg {...common}>
          <circle cx="8" cy="8" r="5.5" fill="none" stroke="currentColor" strokeWidth="1.6" strokeDasharray="2.2 2" />
        </svg>
      );
    case 'running':
    case 'waiting':
      return (
        <svg {...common}>
          <circle cx="8" cy="8" r="5.5" fill="none" stroke="currentColor" strokeOpacity="0.25" strokeWidth="1.8" />
          <path d="M8 2.5a5.5 5.5 0 0 1 5.5 5.5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        </svg>
      );
    case 'done':
      return (
        <svg {...common}>
          <circle cx="8" cy="8" r="7" fill="currentColor" />
          <path d="M4.8 8.2l2.1 2.1 4.3-4.5" fill="none" stroke="#fff" strokeWidth="1.7" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
      );
    case 'failed':
      return (
        <svg {...common}>
          <circle cx="8" cy="8" r="7" fill="currentColor" />
          <path d="M8 4.3v4.5" stroke="#fff" strokeWidth="1.8" strokeLinecap="round" />
          <circle cx="8" cy="11.4" r="1" fill="#fff" />
        </svg>
      );
    case 'denied':
      return (
        <svg {...common}>
          <circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" strokeWidth="1.8" />
          <path d="M3.9 12.1l8.2-8.2" stroke="currentColor" strokeWidth="1.8" />
        </svg>
      );
    case 'paused':
      return (
        <svg {...common}>
          <circle cx="8" cy="8" r="7" fill="currentColor" />
          <path d="M6.3 5.2v5.6M9.7 5.2v5.6" stroke="#fff" strokeWidth="1.7" strokeLinecap="round" />
        </svg>
      );
  }
}
