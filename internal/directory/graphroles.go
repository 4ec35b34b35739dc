package directory

// graphAppRoles are Microsoft Graph's application permissions that
// aksid's Graph face honours, with Microsoft's IDs (the same in every
// tenant, read from Microsoft Graph's permission reference), so that
// scripts that assign them by ID or look them up by value work unchanged.
var graphAppRoles = []AppRole{
	graphRole("9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", "Application.Read.All", "Read all applications"),
	graphRole("1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "Application.ReadWrite.All", "Read and write all applications"),
	graphRole("18a4783c-866b-4cc7-a460-3d5e5662c884", "Application.ReadWrite.OwnedBy", "Manage apps that this app creates or owns"),
	graphRole("06b708a9-e830-4db3-a914-8e69da51d44f", "AppRoleAssignment.ReadWrite.All", "Manage app permission grants and app role assignments"),
	graphRole("8e8e4742-1d95-4f68-9d56-6ee75648c72a", "DelegatedPermissionGrant.ReadWrite.All", "Manage all delegated permission grants"),
	graphRole("7ab1d382-f21e-4acd-a863-ba3e13f7da61", "Directory.Read.All", "Read directory data"),
	graphRole("19dbc75e-c2e2-444c-a770-ec69d8559fc7", "Directory.ReadWrite.All", "Read and write directory data"),
	graphRole("5b567255-7703-4780-807c-7be8301ae99b", "Group.Read.All", "Read all groups"),
	graphRole("62a82d76-70ea-41e2-9197-370581804d09", "Group.ReadWrite.All", "Read and write all groups"),
	graphRole("98830695-27a2-44f7-8c18-0c3ebc9698f6", "GroupMember.Read.All", "Read all group memberships"),
	graphRole("dbaae8cf-10b5-4b86-a4a1-f871c94c6695", "GroupMember.ReadWrite.All", "Read and write all group memberships"),
	graphRole("df021288-bdef-4463-88db-98f22de89214", "User.Read.All", "Read all users' full profiles"),
	graphRole("741f803b-c850-494e-b5df-cde7c675a1ca", "User.ReadWrite.All", "Read and write all users' full profiles"),
	graphRole("9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8", "RoleManagement.ReadWrite.Directory", "Read and write all directory RBAC settings"),
}

func graphRole(id, value, name string) AppRole {
	return AppRole{ID: id, Value: value, DisplayName: name, Description: name + ", without a signed-in user.",
		AllowedMemberTypes: []string{"Application"}, IsEnabled: true}
}
