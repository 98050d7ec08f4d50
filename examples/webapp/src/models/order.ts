import type { UserId } from "./user";

/** One line of an order. */
export interface OrderLine {
  sku: string;
  quantity: number;
  unitCents: number;
}

/** An order placed by a user. */
export interface Order {
  id: string;
  customer: UserId;
  lines: OrderLine[];
}

/** Total of an order in cents. */
export const orderTotal = (order: Order): number =>
  order.lines.reduce((sum, line) => sum + line.quantity * line.unitCents, 0);
