/** Bad input from the user (exit code 2): the message says what to do. */
export class InputError extends Error {}
