import type { PublicConfig } from '@/lib/protocol';

export function modelLabel(model: PublicConfig['model']): string {
  return `${model.offline ? 'Offline model' : 'Model'} · ${model.name}`;
}

export function ModelBadge({ model }: { model: PublicConfig['model'] }) {
  return (
    <span
      className={`badge ${model.offline ? 'badge-offline' : 'badge-online'}`}
      data-testid="model-badge"
      title={model.offline ? 'Answers come from the built-in offline model on your Deputy server.' : `Answers come from ${model.name}.`}
    >
      <span className="badge-dot" aria-hidden="true" />
      {modelLabel(model)}
    </span>
  );
}
