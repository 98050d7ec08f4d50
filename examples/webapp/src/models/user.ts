/** Identifier of a user account. */
export type UserId = string;

/** What a user may do. */
export enum Role {
  Viewer = "viewer",
  Editor = "editor",
  Admin = "admin",
}

/** A user as the API returns it. */
export interface User {
  id: UserId;
  name: string;
  email: string;
  role: Role;
}

/** True when the user may change content. */
export function canEdit(user: User): boolean {
  return user.role === Role.Editor || user.role === Role.Admin;
}
