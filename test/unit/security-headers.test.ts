import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import helmet from 'helmet';
import { HELMET_OPTIONS, helmetHeaders } from '../../src/server/security-headers.js';

describe('helmetHeaders', () => {
  it('records exactly the headers helmet sets on a real response', () => {
    const response = new ServerResponse(new IncomingMessage(new Socket()));
    response.setHeader('X-Powered-By', 'something');
    helmet(HELMET_OPTIONS)(response.req, response, () => {});
    const expected = Object.fromEntries(Object.entries(response.getHeaders()).map(([name, value]) => [name, String(value)]));
    expect(helmetHeaders()).toEqual(expected);
    expect(Object.keys(expected)).toEqual(expect.arrayContaining(['x-content-type-options', 'strict-transport-security', 'x-frame-options']));
  });
});
