export function Logo({ size = 22 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" className="logo">
      <rect width="32" height="32" rx="8" fill="#2f5bd3" />
      <path d="M9 8h7.5a8 8 0 0 1 0 16H9z" fill="none" stroke="#fff" strokeWidth="3" strokeLinejoin="round" />
      <circle cx="16.5" cy="16" r="2.4" fill="#fff" />
    </svg>
  );
}
