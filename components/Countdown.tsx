import { useEffect, useState } from 'react';

/** "Expires in 4:32" for `secondsLeft` > 0, else "Expired". */
export function countdownText(secondsLeft: number): string {
  const left = Math.max(0, Math.round(secondsLeft));
  return left === 0 ? 'Expired' : `Expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
}

/** A live countdown to `until` (ms since the epoch), ticking every second. */
export function Countdown({ until, testId = 'interrupt-countdown' }: { until: number; testId?: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(t);
  }, []);
  return (
    <span className="countdown" data-testid={testId} role="timer">
      {countdownText((until - now) / 1000)}
    </span>
  );
}
