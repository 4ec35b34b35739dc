package arm

// RoleService is the RBAC administration the face drives (role
// definitions and assignments); internal/rbac implements it.
type RoleService interface{}

// authorization serves …/providers/Microsoft.Authorization/… at any scope;
// i is the index of "providers" in the path.
func (h *Handler) authorization(c *call, i int) {
	writeError(c.w, notFoundPath(c))
}
