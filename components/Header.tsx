import type { ReactNode } from 'react';
import type { UserProfile } from '@/lib/auth';
import type { PublicConfig } from '@/lib/protocol';
import { Logo } from './Logo';
import { ModelBadge } from './ModelBadge';

export function Header({
  user,
  model,
  signingOut,
  onSignOut,
  actions,
}: {
  user: UserProfile;
  model: PublicConfig['model'];
  signingOut: boolean;
  onSignOut: () => void;
  /** Buttons shown before "Sign out" (views that do not fit the toolbar). */
  actions?: ReactNode;
}) {
  const display = user.name ?? user.email ?? user.sub;
  const initials = display
    .split(/[\s@.]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((p) => p[0]!.toUpperCase())
    .join('');
  return (
    <header className="header">
      <div className="header-row">
        <div className="brand">
          <Logo />
          <span className="brand-name">Deputy</span>
        </div>
        <ModelBadge model={model} />
      </div>
      <div className="header-row">
        <div className="profile" data-testid="profile">
          <span className="avatar" aria-hidden="true">
            {initials}
          </span>
          <span className="profile-text">
            <span className="profile-name" data-testid="profile-name">
              {display}
            </span>
            {user.email && user.email !== display && (
              <span className="profile-email" data-testid="profile-email">
                {user.email}
              </span>
            )}
          </span>
        </div>
        <div className="header-actions">
          {actions}
          <button type="button" className="btn btn-small btn-ghost" onClick={onSignOut} disabled={signingOut} data-testid="sign-out">
            {signingOut ? 'Signing out…' : 'Sign out'}
          </button>
        </div>
      </div>
    </header>
  );
}
