import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/api/http-errors.js';

describe('what a request URL looks like in the log', () => {
  it('masks a task token in the path, which would answer the task', () => {
    expect(redactUrl('/v1/tasks/tsk_AbC-123_xyz/succeed')).toBe('/v1/tasks/[redacted]/succeed');
    expect(redactUrl('/prefix/v1/tasks/tsk_AbC/heartbeat?x=1')).toBe('/prefix/v1/tasks/[redacted]/heartbeat?x=1');
  });

  it('masks token query parameters, however they are escaped, and leaves the rest', () => {
    expect(redactUrl('/executions/a?token=s3cret&view=1')).toBe('/executions/a?token=[redacted]&view=1');
    expect(redactUrl('/?%74oken=s3cret')).toBe('/?%74oken=[redacted]');
    expect(redactUrl('/v1/executions/abc/history?after=3')).toBe('/v1/executions/abc/history?after=3');
  });
});
