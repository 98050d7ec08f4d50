export * from "./user";
export * from "./order";
export { orderTotal as totalOf } from "./order";
