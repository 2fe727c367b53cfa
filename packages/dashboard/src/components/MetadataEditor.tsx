/** Metadata as JSON; saving sends a merge patch (RFC 7386) of what changed, `null` deletes a key. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, mutate, unwrap } from '../api/client';
import { ERROR_FIELDS } from '../api/resource-fields';
import { graphql } from '../graphql';
import { isObject, mergePatch } from '../merge-patch';
import { ErrorNote } from './ErrorNote';

const PatchMutation = graphql(
  `mutation PatchMetadata($id: ID!, $patch: JSON!) { updateResourceMetadata(id: $id, patch: $patch) {
    ...ErrorFields ... on MutationUpdateResourceMetadataSuccess { data { id metadata } } } }`,
  [ERROR_FIELDS],
);

export function MetadataEditor(props: { id: string; metadata: unknown; onSaved: () => void }) {
  const current = isObject(props.metadata) ? props.metadata : {};
  const shown = JSON.stringify(current, null, 2);
  const [text, setText] = useState(shown);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  // Follow the server's copy while the user has not started editing.
  const [dirty, setDirty] = useState(false);
  useEffect(() => {
    if (!dirty) setText(shown);
  }, [shown, dirty]);

  const save = async () => {
    let next: unknown;
    try {
      next = JSON.parse(text);
    } catch {
      setError(new ApiError('VALIDATION_FAILED', 'metadata: not valid JSON'));
      return;
    }
    if (!isObject(next)) {
      setError(new ApiError('VALIDATION_FAILED', 'metadata: must be a JSON object'));
      return;
    }
    try {
      unwrap((await mutate(PatchMutation, { id: props.id, patch: mergePatch(current, next) })).updateResourceMetadata);
      setError(null);
      setDirty(false);
      setSaved(true);
      props.onSaved();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError('ERROR', String(e)));
    }
  };
  return (
    <section class="card" aria-labelledby="meta-h">
      <h2 id="meta-h">Metadata</h2>
      <label for="metadata" class="muted">
        JSON object; saved as a merge patch
      </label>
      <textarea
        id="metadata"
        rows={6}
        class="mono"
        value={text}
        onInput={(e) => [setText(e.currentTarget.value), setDirty(true), setSaved(false)]}
      />
      <ErrorNote error={error} />
      <div class="row">
        <button type="button" onClick={save} disabled={!dirty}>
          Save metadata
        </button>
        {saved && <span role="status">Saved</span>}
      </div>
    </section>
  );
}
