import { Order, User, UserId } from "@/models";

/** Errors from the shop API carry the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A small typed client for the shop's HTTP API. */
export class ApiClient {
  constructor(private readonly baseUrl: string) {}

  /** Fetches one user. */
  async getUser(id: UserId): Promise<User> {
    return this.request<User>(`/users/${id}`);
  }

  /** Fetches the orders of a user, newest first. */
  async listOrders(customer: UserId): Promise<Order[]> {
    return this.request<Order[]>(`/users/${customer}/orders`);
  }

  private async request<T>(path: string): Promise<T> {
    const response = await fetch(this.baseUrl + path);
    if (!response.ok) {
      throw new ApiError(response.status, await response.text());
    }
    return (await response.json()) as T;
  }
}
