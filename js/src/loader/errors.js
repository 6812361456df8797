// One error class for everything webnets.load refuses: a message that names the problem and the fix,
// and a `code` a program can branch on (the message is for people).
export class WebnetsLoadError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'WebnetsLoadError';
    this.code = code;
  }
}

export const fail = (code, message) => {
  throw new WebnetsLoadError(code, message);
};
