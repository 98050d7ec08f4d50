import { ApiClient } from "./api/client";
import { canEdit, orderTotal } from "./models";
import { displayName, formatCents } from "./util/format";

export { ApiClient, ApiError } from "./api/client";
export * from "./models";

/** A one-line summary of a user's account: name, rights, order total. */
export async function accountSummary(client: ApiClient, userId: string): Promise<string> {
  const user = await client.getUser(userId);
  const orders = await client.listOrders(user.id);
  const spent = orders.reduce((sum, order) => sum + orderTotal(order), 0);
  const rights = canEdit(user) ? "editor" : "viewer";
  return `${displayName(user.name, user.email)} (${rights}): ${formatCents(spent)}`;
}
